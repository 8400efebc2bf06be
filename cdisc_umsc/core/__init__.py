"""The base layer: errors, dates, atomic files, the condition language and format facts.

Everything above imports from here; nothing here imports from the rest of the package.
"""
