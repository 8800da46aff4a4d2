Template().fromImage("<auth-registry>/private/app:1")
