ERROR: TypeError: Template(...).fromOCIRegistry is not a function
