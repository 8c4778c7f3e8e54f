-- What an entity row stores, trimmed to what is read: each entity of a
-- large sync is written once and read many times, and the write is most
-- of a first sync.
--
-- entities.entity, a jsonb copy of each body, is read by no query (the API
-- serves final_entity as stored and filters through the search table), and
-- computing it parsed every body once more on each write.
ALTER TABLE entities DROP COLUMN entity;

-- body was final_entity without its "relations" list: final_entity is the
-- body up to its closing brace, then ',"relations":[...]}'.  Re-stitching,
-- the only reader, takes the body from final_entity: only where the
-- relations begin is kept (in characters, as left() counts).
ALTER TABLE entities ADD COLUMN body_length integer;
UPDATE entities SET body_length = length(body);
ALTER TABLE entities ALTER COLUMN body_length SET NOT NULL;
ALTER TABLE entities DROP COLUMN body;
