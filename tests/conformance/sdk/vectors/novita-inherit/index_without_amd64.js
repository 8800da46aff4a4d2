Template().fromImage("<registry>/armonly:1").runCmd('echo hi')
