from _emit import *
emit(Template().from_template('devcontainer').git_clone('https://example.com/p.git', '/my-devcontainer').beta_dev_container_prebuild('/my-devcontainer').beta_set_dev_container_start('/my-devcontainer'))
