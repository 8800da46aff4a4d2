Template().fromImage("<registry>/docker/multi:1")
