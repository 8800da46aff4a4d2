Template().fromImage("<registry>/multi:2")
