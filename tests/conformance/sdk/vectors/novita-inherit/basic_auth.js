Template().fromImage("<auth-registry>/private/app:1", {username: "reader", password: "s3cret-pass"})
