import { customType } from "drizzle-orm/pg-core";

/** The provider's body, byte for byte. pg hands bytea back as a Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType() {
    return "bytea";
  },
});
