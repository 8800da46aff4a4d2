Template().fromImage("<registry>/team/app:1").setWorkdir('/w').setStartCmd('./run', novita.waitForPort(3000))
