/* fixture-noentry: a module without the entry point (not a plugin). */
int fixture_noentry_something(void);
int fixture_noentry_something(void) { return 42; }
