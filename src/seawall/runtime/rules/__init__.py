"""The runtime rule language: YAML documents of lists, macros and rules (``loader``), a
condition parser (``parser``), a compiler to Python closures (``compiler``) and the index
that hands each event only the rules that can match it (``index``)."""
