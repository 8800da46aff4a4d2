Template().fromImage("<registry>/team/app:1").setReadyCmd(novita.waitForFile('/tmp/ready'))
