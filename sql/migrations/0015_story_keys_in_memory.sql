-- Story keys leave the warehouse. They were 49 rows per article (48 LSH band keys and the title
-- key), written and hash-indexed by every merge and joined against by every batch: on a first
-- poll of 100,000 entries, 3.3 million rows and about a third of the merge's time. Every key is
-- a function of the article's fingerprint, which news.article_fingerprints already keeps, so the
-- merge now derives the clustering window's keys from there and holds them in memory
-- (newswatch/story_index.py).
--
-- The window is "first seen, or revised, in the last seven days": updated_at gets an index of
-- its own (only revised articles have one) so the window is read by two index ranges.
DROP TABLE news.story_bands;
CREATE INDEX articles_updated ON news.articles (updated_at) WHERE updated_at IS NOT NULL;
