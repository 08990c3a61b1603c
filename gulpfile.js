const { finished } = require('stream/promises');
const { task, src, dest } = require('gulp');

// tsc emits only JavaScript; n8n also needs the SVG icons the built nodes and credentials name.
async function copyIcons() {
	await Promise.all(
		['nodes', 'credentials'].map((folder) =>
			finished(
				src(`${folder}/**/*.{png,svg}`, { allowEmpty: true, encoding: false }).pipe(
					dest(`dist/${folder}`),
				),
			),
		),
	);
}

task('build:icons', copyIcons);
