"""Watch topics and matching: pure functions over text and identifiers (no Scrapy, no database).

For now this holds the text normalisation that the archive shares, so that change detection and
(later) matching see the same text. The query language and topics are the monitors issue.
"""
