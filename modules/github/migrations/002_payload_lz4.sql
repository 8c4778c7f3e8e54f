-- Payloads of a few kB or more are compressed when stored.  PostgreSQL's
-- default, pglz, cost more server CPU per delivery than all the rest of its
-- insert (a fifth of the machine at a few thousand deliveries a second);
-- lz4 compresses them almost as well for a fraction of that.  A server built
-- without lz4 (or older than 14) keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END
$$;
