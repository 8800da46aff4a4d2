from _emit import *
emit_error(lambda: Template().from_base_image().add_mcp_server('exa'))
