-- Story keys are the merge's bulkiest write: 49 rows per new article, about 5 million on a first
-- poll of 100k entries. At 20k entries (`make bench`) writing them took 11 of the merge's 28
-- seconds, most of it in two places this migration removes:
--
-- * The foreign key to news.articles checked every row against the articles' primary key. The
--   merge writes an article and its keys in the same transaction and nothing else writes this
--   table (the daily retention only deletes from it), so the check could never fail.
-- * The keys are random 64-bit numbers, looked up only by equality (the merge's candidate
--   join). A hash index serves that join and takes random inserts faster than a btree; the
--   clustering window (seen_at) is checked on the rows a key finds.
ALTER TABLE news.story_bands DROP CONSTRAINT story_bands_article_id_fkey;
DROP INDEX news.story_bands_key;
CREATE INDEX story_bands_key ON news.story_bands USING hash (band_key);
