-- The jsonb copy of each entity's body (entities.entity) is read by no
-- query: the API serves final_entity as stored and filters through the
-- search table.  Computing it parsed every body once more on each write,
-- a quarter of the cost of loading the entities of a large sync.
ALTER TABLE entities DROP COLUMN entity;
