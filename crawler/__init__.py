"""The Scrapy project: one spider per source, pipelines that hand items to storage."""
