"""The start page: who you are, and the areas of the hub your role may use."""
