FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY backend backend
RUN pip install --no-cache-dir -c requirements.lock -e .
COPY frontend frontend
RUN cd frontend && npm ci --no-audit --no-fund
COPY gis_data gis_data
EXPOSE 8000
