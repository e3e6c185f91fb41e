#!/usr/bin/env Rscript
# Export modeldata's credit_data (Debian package r-cran-modeldata, MIT licence,
# (c) 2019 Max Kuhn, RStudio) to models/data/credit/credit_data.csv.
#
#   * all 4454 rows, the 14 original columns in their original order
#     (Status, Seniority, Home, Time, Age, Marital, Records, Job, Expenses, Income, Assets, Debt,
#      Amount, Price);
#   * header line, comma separated, no quoting (no value contains a comma or a quote),
#     no row names, "\n" line endings, NA written as an empty cell;
#   * factors are written as their labels (Status good/bad, Home, Marital, Records, Job).
#
# Run from the repository root:  Rscript models/training/export_credit_data.R
# The output depends only on the installed modeldata version (1.1.0 in Debian 12), so re-running
# gives a byte-identical file.
suppressPackageStartupMessages(library(modeldata))
data(credit_data)

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "models/training"
out_dir <- file.path(dirname(here), "data", "credit")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
out <- file.path(out_dir, "credit_data.csv")

stopifnot(nrow(credit_data) == 4454, ncol(credit_data) == 14)
for (col in names(credit_data)) {
  v <- as.character(credit_data[[col]])
  stopifnot(!any(grepl("[,\"\n]", v[!is.na(v)])))
}
write.table(credit_data, out, sep = ",", na = "", quote = FALSE, row.names = FALSE,
            col.names = TRUE, eol = "\n", fileEncoding = "UTF-8")
cat(sprintf("wrote %s: %d rows x %d columns (modeldata %s), %d rows with a missing value\n",
            out, nrow(credit_data), ncol(credit_data), as.character(packageVersion("modeldata")),
            sum(!complete.cases(credit_data))))
