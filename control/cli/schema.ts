/** `bustle-control schema`: control.yaml's JSON Schema (draft 2020-12), with every bot type's section. */
import { Command } from "commander";
import { registry } from "../../bots/registry.js";
import { controlConfigJsonSchema } from "../config/control-config.js";

export const schemaCommand = new Command("schema")
  .description(
    "print control.yaml's JSON Schema (draft 2020-12), generated from the schemas control.yaml is validated with",
  )
  .action(() => {
    process.stdout.write(JSON.stringify(controlConfigJsonSchema(registry), null, 2) + "\n");
  });
