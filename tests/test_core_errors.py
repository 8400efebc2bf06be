"""The error base: one-line messages, exit codes, located errors, safe console output, signals."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from cdisc_umsc.core.errors import (
    InputError,
    ReconciliationError,
    StandardsError,
    UmscError,
    WriteError,
    echo_safe,
    exit_on_signals,
    fail,
    located,
    safe_console,
)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (UmscError, 2),
        (InputError, 2),
        (WriteError, 2),
        (StandardsError, 2),
        (ReconciliationError, 3),
    ],
)
def test_exit_codes(cls: type[UmscError], code: int) -> None:
    assert cls.exit_code == code
    assert cls("x").exit_code == code
    assert issubclass(cls, UmscError) and issubclass(cls, Exception)


def test_subclasses_are_distinct() -> None:
    assert not issubclass(InputError, WriteError)
    assert not issubclass(ReconciliationError, InputError)
    assert not issubclass(StandardsError, InputError)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("dm.csv: row 3: bad", "dm.csv: row 3: bad"),
        ("a\nb", "a b"),
        ("  lead and trail  ", "lead and trail"),
        ("tab\there\r\nand  more   spaces", "tab here and more spaces"),
        ("line\u2028sep", "line sep"),  # any Unicode line break
        ("", ""),
        ("\n\n", ""),
    ],
)
def test_message_is_one_line(message: str, expected: str) -> None:
    err = InputError(message)
    assert str(err) == expected
    assert err.args == (expected,)


def test_message_of_a_non_string() -> None:
    assert str(UmscError(Path("raw") / "dm.csv")) == "raw/dm.csv"  # type: ignore[arg-type]
    assert str(UmscError(42)) == "42"  # type: ignore[arg-type]


# located -------------------------------------------------------------------------------------


def test_located_value_error() -> None:
    with pytest.raises(InputError) as err, located("spec/ae.yaml:7"):
        raise ValueError("bad width")
    assert str(err.value) == "spec/ae.yaml:7: bad width"
    assert isinstance(err.value.__cause__, ValueError)


def test_located_key_error_loses_its_quotes() -> None:
    with pytest.raises(InputError) as err, located("spec/ae.yaml:7"):
        {}["AETERM"]
    assert str(err.value) == (
        "spec/ae.yaml:7: AETERM: not found (no such variable, dataset or name in what the step "
        "reads)"
    )


def test_located_key_error_of_a_column_selection_names_the_columns() -> None:
    import pandas as pd

    with pytest.raises(InputError) as err, located("adam/adae.yaml: ADAE"):
        pd.DataFrame({"A": [1]})[["STUDYID", "A", "USUBJID"]]
    assert str(err.value).startswith("adam/adae.yaml: ADAE: STUDYID, USUBJID: not found (")
    with pytest.raises(InputError) as err, located("x:1"):
        raise KeyError(pd.Index(["VSTESTCX"]))
    assert str(err.value).startswith("x:1: VSTESTCX: not found (")


def test_located_key_error_with_a_message() -> None:
    with pytest.raises(InputError) as err, located("x:1"):
        raise KeyError("no field 'SEX'")
    assert str(err.value) == "x:1: no field 'SEX"  # the outer quotes only are stripped


def test_located_without_where() -> None:
    with pytest.raises(InputError) as err, located():
        raise ValueError("multi\nline")
    assert str(err.value) == "multi line"


def test_located_leaves_other_errors_alone() -> None:
    with pytest.raises(TypeError, match="^not mine$"), located("x:1"):
        raise TypeError("not mine")
    with pytest.raises(WriteError, match="^already one line$"), located("x:1"):
        raise WriteError("already one line")


def test_located_without_an_error() -> None:
    with located("x:1"):
        value = 1 + 1
    assert value == 2


def test_located_unicode_error_is_a_value_error() -> None:
    with pytest.raises(InputError, match=r"^f:2: 'ascii' codec can't decode byte 0xff"):
        with located("f:2"):
            b"\xff".decode("ascii")


# echo_safe / safe_console --------------------------------------------------------------------


def _stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, newline="")


def _written(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def test_echo_safe_escapes_what_the_encoding_cannot_hold() -> None:
    stream = _stream("ascii")
    echo_safe("AETERM 否 café", stream)
    assert _written(stream) == b"AETERM \\u5426 caf\\xe9\n"


def test_echo_safe_cp1252_keeps_what_it_can() -> None:
    stream = _stream("cp1252")
    echo_safe("café 否", stream)
    assert _written(stream) == "café \\u5426\n".encode("cp1252")


def test_echo_safe_utf8_unchanged() -> None:
    stream = _stream("utf-8")
    echo_safe("否 café", stream)
    assert _written(stream) == "否 café\n".encode()


def test_echo_safe_empty_line() -> None:
    stream = _stream("ascii")
    echo_safe("", stream)
    assert _written(stream) == b"\n"


def test_echo_safe_default_is_stdout(capsys) -> None:
    echo_safe("hello")
    assert capsys.readouterr() == ("hello\n", "")


def test_echo_safe_stream_without_encoding_is_utf8() -> None:
    stream = io.StringIO()  # encoding None
    echo_safe("否", stream)
    assert stream.getvalue() == "否\n"


def test_safe_console_escapes_later_prints(monkeypatch) -> None:
    out, err = _stream("ascii"), _stream("ascii")
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(UnicodeEncodeError):
        print("否", file=out, flush=True)
    safe_console()
    print("否", flush=True)
    print("é", file=sys.stderr, flush=True)
    assert _written(out).endswith(b"\\u5426\n")
    assert _written(err) == b"\\xe9\n"


def test_safe_console_passes_over_streams_it_cannot_change(monkeypatch) -> None:
    class Fixed(io.StringIO):
        def reconfigure(self, **_: object) -> None:
            raise ValueError("cannot")

    fixed = Fixed()
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # no reconfigure at all
    monkeypatch.setattr(sys, "stderr", fixed)
    safe_console()  # no error
    assert fixed.getvalue() == ""


# fail ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InputError("raw/dm.csv: row 2, column SEX: 'Q' is not a term"), 2),
        (WriteError("out/dm.xpt: cannot write"), 2),
        (StandardsError("SDTMIG 9.9 is not bundled"), 2),
        (ReconciliationError("AE: 10 in, 9 mapped, 0 rejected"), 3),
    ],
)
def test_fail_writes_one_line_and_exits_with_the_code(capsys, exc: UmscError, code: int) -> None:
    with pytest.raises(SystemExit) as stop:
        fail(exc)
    assert stop.value.code == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {exc}\n"
    assert captured.err.count("\n") == 1


def test_fail_exit_code_of_a_subclass(capsys) -> None:
    class Leak(UmscError):
        exit_code = 4

    with pytest.raises(SystemExit) as stop:
        fail(Leak("out/dm.xpt: a name\nin two lines"))
    assert stop.value.code == 4
    assert capsys.readouterr().err == "error: out/dm.xpt: a name in two lines\n"


def test_fail_on_an_ascii_stderr(monkeypatch) -> None:
    err = _stream("ascii")
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(SystemExit) as stop:
        fail(InputError("raw/ae.csv: row 1: 否"))
    assert stop.value.code == 2
    assert _written(err) == b"error: raw/ae.csv: row 1: \\u5426\n"


# exit_on_signals -----------------------------------------------------------------------------


@pytest.fixture()
def saved_handlers():
    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    saved = {n: signal.getsignal(getattr(signal, n)) for n in names}
    yield names
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)


def test_exit_on_signals_turns_sigterm_and_sighup_into_exits(saved_handlers) -> None:
    exit_on_signals()
    for name in saved_handlers:
        sig = getattr(signal, name)
        handler = signal.getsignal(sig)
        assert callable(handler)
        with pytest.raises(SystemExit) as stop:
            handler(sig, None)
        assert stop.value.code == 128 + sig
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # left alone


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM")
def test_sigterm_raises_system_exit_143(saved_handlers) -> None:
    exit_on_signals()
    with pytest.raises(SystemExit) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(500):  # the handler runs at the next check of the main thread
            time.sleep(0.01)
    assert stop.value.code == 143


def test_exit_on_signals_outside_the_main_thread_is_quiet(saved_handlers) -> None:
    before = {n: signal.getsignal(getattr(signal, n)) for n in saved_handlers}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            exit_on_signals()
        except BaseException as exc:  # any escape is the failure
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors == []
    assert {n: signal.getsignal(getattr(signal, n)) for n in saved_handlers} == before
