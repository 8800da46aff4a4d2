ERROR: TypeError: Template(...).fromImage(...).setPatchCmd is not a function
