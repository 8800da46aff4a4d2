Template().fromImage("127.0.0.1:1/nothing:1").runCmd('echo hi')
