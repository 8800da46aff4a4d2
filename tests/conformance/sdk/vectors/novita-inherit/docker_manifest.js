Template().fromImage("<registry>/docker/app:1").setEnvs({LANG: 'en_US.UTF-8'})
