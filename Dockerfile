# The Airflow image with newsroom's runtime requirements, installed against the lock
# (Airflow itself comes from the base image, at the version the lock pins).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt requirements-lock.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/requirements-lock.txt
