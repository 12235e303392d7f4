"""Exports for other tools: TimelineJS slides, spreadsheet rows and PLOVER event records.
Pure: from events as they now stand (corrections applied, retractions gone, disputes
attached) and the actor, source and proposal registries, to plain dicts and strings; the
HTTP layer reads the log and writes the bytes. `registry` resolves names, parties, sources
and proposals and selects the events; `dates` reads valid times as people do; `describe`
puts an event into words; `timelinejs`, `spreadsheet` and `plover` build the three formats.
"""
