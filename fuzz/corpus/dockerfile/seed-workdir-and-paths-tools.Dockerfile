# A one-stage image: the jar lands in the working directory, the entrypoint names it absolutely.
FROM openjdk:22
COPY target/tools.jar tools.jar
ENTRYPOINT ["java", "-jar", "/tools.jar"]
