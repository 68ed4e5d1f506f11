-- Stories checked against full text: each fetched body's fingerprint (MinHash of its opening,
-- fingerprints.body_fingerprint), and, for a story made when bodies showed that some of its
-- articles are a different text, the story it was split from (its "family": the merge grouped
-- them by headline and summary; full text regroups them within it, never beyond).
ALTER TABLE news.article_fingerprints ADD COLUMN body_signature bytea;
ALTER TABLE news.article_fingerprints ADD COLUMN body_shingle_count integer;
ALTER TABLE news.stories ADD COLUMN split_from bigint;
CREATE INDEX stories_split_from ON news.stories (split_from) WHERE split_from IS NOT NULL;
