-- Sign-in attempts older than the limits' window are deleted as new ones
-- are counted (#9): the delete is a range of this index.
CREATE INDEX signin_attempts_at ON signin_attempts(at);
