# The Airflow image with newsroom's runtime requirements, installed against the lock
# (Airflow itself comes from the base image, at the version the lock pins).
FROM apache/airflow:3.3.2-python3.11
# Optional object-storage backends for NEWSROOM_DATA_DIR, by name: "s3", "gcs" or "s3 gcs"
# (docker build --build-arg NEWSROOM_EXTRAS=s3 .). Each is requirements-<name>.txt, fully
# pinned and installed against the lock (docs/operations.md).
ARG NEWSROOM_EXTRAS=""
COPY requirements.txt requirements-lock.txt requirements-s3.txt requirements-gcs.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/requirements-lock.txt \
 && for extra in $NEWSROOM_EXTRAS; do \
      case "$extra" in \
        gcs) pip install --no-cache-dir -r /tmp/requirements-gcs.txt -c /tmp/requirements-lock.txt ;; \
        s3) pip install --no-cache-dir -r /tmp/requirements-s3.txt -c /tmp/requirements-lock.txt ;; \
        *) echo "unknown NEWSROOM_EXTRAS entry: $extra (s3, gcs)" >&2; exit 1 ;; \
      esac; \
    done
