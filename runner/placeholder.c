/* placeholder: being written */
typedef int cmek_runner_placeholder;
