"""Streamlit widgets of the Behaviour page, one module per part: the feature table held in the
session, presets, the live result, the segment builder, saved segments, downloads, and overlap
and SCALE.

The builder's definition lives in the session as a builder.Definition and is changed only by
button callbacks, so a rerun never loses or doubles an edit.
"""
