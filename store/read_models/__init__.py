"""Read models beyond the positions table: the effective events (the timeline's versions) and
the registries of actors and proposals, each maintained in the append transaction."""
