from _emit import *
emit(Template().from_template('mcp-gateway').add_mcp_server(['exa', 'brave']))
