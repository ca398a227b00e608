# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 10001 app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN python locale/translate.py compile
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only-not-secret DATABASE_URL=postgres://build@localhost/none \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput \
 && mkdir -p /app/media && chown -R app:app /app/media

USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "coalition/gunicorn.conf.py", "coalition.wsgi:application"]
