"""Behaviour: the feature catalogue and table, segment definitions and their compiler, presets,
overlap and SCALE, saved segments and segment exports."""
