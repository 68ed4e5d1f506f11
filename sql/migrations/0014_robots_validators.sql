-- robots.txt is asked for again once a day per origin; with the validators of the copy last
-- read, that is a conditional GET, and an unchanged file costs its host a 304.
ALTER TABLE news.robots_txt ADD COLUMN etag text;
ALTER TABLE news.robots_txt ADD COLUMN last_modified text;
