/* placeholder: being written */
typedef int cmek_placeholder_target;
