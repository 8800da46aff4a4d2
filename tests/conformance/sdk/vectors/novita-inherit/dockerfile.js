Template().fromDockerfile("FROM <registry>/team/app:1\nRUN echo hi\n")
