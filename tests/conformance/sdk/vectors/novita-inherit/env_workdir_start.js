Template().fromImage("<registry>/team/app:1").setEnvs({APP_MODE: 'user', EXTRA: '$PATH:/x'}).runCmd('echo hi')
