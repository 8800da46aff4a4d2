Template().fromImage("<registry>/team/app:1", undefined, {inheritConfig: false}).runCmd('echo hi')
