// Where the test services are. CI and every developer machine run Postgres and Redis locally.
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEMPLATE_ENV = "HOOKLINE_TEST_TEMPLATE_DB";
