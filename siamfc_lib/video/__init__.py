"""The trained tracker on a user's own video (07_track_video, ``python -m siamfc_lib.track``)."""
