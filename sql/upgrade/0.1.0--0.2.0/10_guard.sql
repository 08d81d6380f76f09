-- Issue 10 (the guard fails closed): objects of 0.1.0 that are gone or
-- whose signature changed.  The public guard functions become C entry
-- points (same signatures, replaced by the code parts); their
-- implementations are new functions asof._protect, _split, _unseal_table
-- and _unprotect.
DROP FUNCTION asof._split_report(regclass, text);
DROP FUNCTION asof._check_owner(regclass);
DROP FUNCTION asof._unprotect_orphan(regclass);
DROP FUNCTION asof._link(regclass, regclass);
DROP FUNCTION asof._seal_training_set(regclass, regclass);
