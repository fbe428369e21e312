# The Airflow image with newsroom's pinned requirements (Airflow itself comes from the base image).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /tmp/requirements.txt
RUN grep -v '^apache-airflow==' /tmp/requirements.txt > /tmp/req-no-airflow.txt \
 && pip install --no-cache-dir "apache-airflow==3.3.2" apache-airflow-providers-celery -r /tmp/req-no-airflow.txt
