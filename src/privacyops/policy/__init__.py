"""The privacy policy as versioned, validated data."""
