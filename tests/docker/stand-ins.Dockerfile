# Stand-ins for the two public images examples/flask/compose.moto.yaml
# pulls (motoserver/moto and amazon/aws-cli), which the test suite's engine
# cannot pull: moto's server (same version) as the entrypoint, and the AWS
# CLI for the seed service, which names its own entrypoint.
FROM secrun-test/python:bookworm
RUN pip install --no-cache-dir "moto[server]==5.1.22" "awscli==1.40.*"
ENTRYPOINT ["moto_server", "-H", "0.0.0.0", "-p", "5000"]
