"""The demo retail shop that `privacyops demo create` builds, for trying the platform end to end."""
