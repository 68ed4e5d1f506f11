-- The IANA zone an outlet writes its local times in (feeds.yaml `timezone`): zone-less dates
-- and the abbreviations Asian sites use ("CST" on a Beijing site) are read in it.
ALTER TABLE news.feeds ADD COLUMN timezone text;
